import { defineKind } from '../registry.js';

/** The status quo: shows nothing, but its responses are still recorded so the control arm is measured. */
export const none = defineKind({
  kind: 'none',
  doc: 'nothing, not even fallbacks or pins: the status quo. Its responses and exposures are still recorded, so the control arm is measured',
  params: {},
  create: ({ kind, version }) => ({ kind, version, recommend: () => [], shareKey: () => '' }),
});
