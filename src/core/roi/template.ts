/**
 * The newspaper template of `readnext roi init` (issue 19): the three scenarios of the talk (do
 * nothing, ship the best heuristic, build a learned ranker) as a scenario document whose inputs
 * are uncertain, each with a description, a unit and a default range a newsroom edits.
 *
 * Every option's value is its net present value in the document's currency over `horizon_months`,
 * against the status quo (whose value is 0 by definition: the other options are what they add):
 *
 *   revenue per month at risk  R = page_views_month · ad_rpm / 1000 · pv_pass_through
 *                                 + subscribers · sub_revenue_month · conversion_pass_through
 *   heuristic = pv(heuristic_uplift · R − heuristic_run_month, heuristic_months_to_prod)
 *               − heuristic_build_days · day_rate
 *   model     = pv(model_uplift · R − model_run_month − model_maintenance_days_month · day_rate,
 *                  model_months_to_prod) − model_build_days · day_rate
 *   model_uplift = (1 + heuristic_uplift) · (1 + model_online_lift) − 1
 *   model_online_lift = model_offline_lift · transfer   (a derived input)
 *
 * An uplift is relative, in articles read per reader (what an A/B test of readnext measures); the
 * pass-through factors say how much of it reaches page views and subscription revenue. The model's
 * gain over the heuristic is known before any test only offline, and an offline lift becomes an
 * online one only through an uncertain transfer factor (offline metrics overstate online gains in
 * published comparisons: Garcin et al. 2014, "Offline and online evaluation of news recommender
 * systems at swissinfo.ch", RecSys; Beel et al. 2013): the template makes that factor an input, so
 * the value of measuring it (EVPPI) is computed like any other.
 *
 * `planned_test` asks what an A/B test of the model against the heuristic is worth by its size
 * (EVSI, Strong et al. 2015) and which size pays best: its metric is the relative uplift in
 * articles read per reader, whose per-reader standard deviation on that scale is the coefficient of
 * variation of articles read per reader (about 1.5 on news sites: most readers read one or two, a
 * few read dozens); a reader on the worse arm costs `loss_per_reader`, and waiting costs
 * `delay_cost_per_day` (the decision's value deferred).
 *
 * The ranges are illustrative defaults for a national daily with tens of millions of page views a month,
 * not data: edit them. `measured_by` names what readnext measures that can replace a prior
 * (`readnext roi update`).
 */

/** The template document (plain JSON: `readnext roi init` prints it). */
export function newspaperTemplate(): Record<string, unknown> {
  return {
    description:
      'Read-next recommendations for a newspaper: the status quo, the best heuristic, or a learned ranker. Values are net present values against the status quo, in the currency below, over the horizon; every input is uncertain: edit the ranges.',
    currency: 'EUR',
    samples: 200_000,
    seed: 1,
    horizon_months: 36,
    discount_rate: 0.08,
    parameters: {
      page_views_month: {
        dist: 'lognormal',
        p5: 20_000_000,
        p95: 60_000_000,
        unit: 'page views / month',
        description: 'article page views a month (analytics): the base the uplift multiplies',
      },
      ad_rpm: { dist: 'lognormal', p5: 3, p95: 9, unit: 'EUR / 1000 page views', description: 'ad revenue per thousand page views' },
      subscribers: { dist: 'lognormal', p5: 30_000, p95: 80_000, unit: 'subscribers', description: 'paying digital subscribers' },
      sub_revenue_month: {
        dist: 'triangular',
        min: 6,
        mode: 9,
        max: 13,
        unit: 'EUR / subscriber / month',
        description: 'net monthly revenue per subscriber',
      },
      pv_pass_through: {
        dist: 'pert',
        min: 0.5,
        mode: 0.8,
        max: 1,
        unit: 'share',
        description: 'share of a relative uplift in articles read per reader that shows in page views (some reads replace others)',
      },
      conversion_pass_through: {
        dist: 'pert',
        min: 0,
        mode: 0.15,
        max: 0.5,
        unit: 'share',
        description:
          'relative change in subscription revenue (conversions and retention) per relative uplift in articles read: engagement predicts retention only in part',
      },
      heuristic_uplift: {
        dist: 'normal',
        mean: 0.015,
        sd: 0.01,
        unit: 'relative uplift',
        description: 'uplift in articles read per reader of the best heuristic over the status quo (its A/B test measures it)',
        measured_by: 'experiment:heuristic-vs-status-quo:articles_read',
      },
      model_offline_lift: {
        dist: 'normal',
        mean: 0.03,
        sd: 0.015,
        unit: 'relative uplift, offline',
        description: 'relative lift of the model over the heuristic that offline evaluation suggests (replay on the logs)',
      },
      transfer: {
        dist: 'lognormal',
        p5: 0.15,
        p95: 1.2,
        unit: 'online / offline',
        description:
          'share of an offline lift that survives online: offline metrics are known to overstate online gains, by how much is uncertain',
      },
      model_online_lift: {
        dist: 'derived',
        expr: 'model_offline_lift * transfer',
        unit: 'relative uplift',
        description:
          'uplift in articles read per reader of the model over the heuristic, online: the offline lift times the transfer factor until an A/B test measures it',
        measured_by: 'experiment:model-vs-heuristic:articles_read',
      },
      day_rate: {
        dist: 'triangular',
        min: 450,
        mode: 600,
        max: 800,
        unit: 'EUR / person-day',
        description: 'loaded cost of a developer or data scientist day',
      },
      heuristic_build_days: {
        dist: 'triangular',
        min: 5,
        mode: 10,
        max: 25,
        unit: 'person-days',
        description: 'to ship, A/B test and tune the heuristic',
      },
      heuristic_run_month: {
        dist: 'triangular',
        min: 50,
        mode: 150,
        max: 400,
        unit: 'EUR / month',
        description: 'serving and upkeep of the heuristic',
      },
      heuristic_months_to_prod: {
        dist: 'triangular',
        min: 0.5,
        mode: 1,
        max: 3,
        unit: 'months',
        description: 'before the heuristic earns',
      },
      model_build_days: {
        dist: 'lognormal',
        p5: 40,
        p95: 160,
        unit: 'person-days',
        description: 'data pipeline, training, evaluation, deployment and tests of the learned ranker',
      },
      model_run_month: {
        dist: 'lognormal',
        p5: 300,
        p95: 2_000,
        unit: 'EUR / month',
        description: 'compute for training and serving the model',
      },
      model_maintenance_days_month: {
        dist: 'triangular',
        min: 1,
        mode: 3,
        max: 8,
        unit: 'person-days / month',
        description: 'retraining, monitoring, drift and incidents',
      },
      model_months_to_prod: { dist: 'triangular', min: 3, mode: 6, max: 12, unit: 'months', description: 'before the model earns' },
    },
    planned_test: {
      input: 'model_online_lift',
      sd_per_reader: 1.5,
      readers_per_day: 20_000,
      loss_per_reader: 0.002,
      delay_cost_per_day: 100,
      fixed_cost: 2_000,
      max_readers_per_arm: 2_000_000,
    },
    options: {
      status_quo: '0',
      heuristic:
        'pv(heuristic_uplift * (page_views_month * ad_rpm / 1000 * pv_pass_through + subscribers * sub_revenue_month * conversion_pass_through) - heuristic_run_month, heuristic_months_to_prod) - heuristic_build_days * day_rate',
      model:
        'pv(((1 + heuristic_uplift) * (1 + model_online_lift) - 1) * (page_views_month * ad_rpm / 1000 * pv_pass_through + subscribers * sub_revenue_month * conversion_pass_through) - model_run_month - model_maintenance_days_month * day_rate, model_months_to_prod) - model_build_days * day_rate',
    },
  };
}
