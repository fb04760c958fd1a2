import type { SimTarget } from '../../src/app/sim-control.js';

/**
 * A target that passes every call of the simulation's orchestrator on to `t`, but `train` (as over
 * HTTP, where the platform cannot train), with `over` in place of the calls a test watches.
 */
export function forwardingTarget(t: SimTarget, over: Partial<SimTarget> = {}): SimTarget {
  return {
    setTime: (now) => t.setTime(now),
    publish: (a) => t.publish(a),
    recommend: (req) => t.recommend(req),
    send: (e) => t.send(e),
    deployLive: (p, live) => t.deployLive(p, live),
    startExperiment: (e) => t.startExperiment(e),
    report: (id, o) => t.report(id, o),
    close: () => t.close(),
    ...over,
  };
}
