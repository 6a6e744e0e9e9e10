-- 0046 (issue 14): a breakdown's cells per period, not per month.
--
-- metric.aggregate and metric.measure (through metric.cell) kept every cell per month (0016): a
-- breakdown (IMD decile, ethnicity, sex, age) as well as breakdown 'all'. Only breakdown 'all' is
-- ever read per month (a release's run charts); every other cell's months were summed by each
-- reader (publish and `ncap release build`, release_sums_merge_months) before use. Kept per month,
-- the breakdowns were 59,000 of 64,000 cells in a two-minute steady load from 20 trusts, and at
-- such a load (each metric batch of records from every trust, a few per trust and month) most of
-- a batch's upserts: one per record, breakdown and metric. Now metric writes a breakdown's
-- contributions to the period's cell of month '' (metric_store.h); breakdown 'all' keeps its
-- months. Releases are the same bytes (their cells are the months' sums either way).
--
-- An existing deployment: each breakdown cell of a month is folded into its period's cell of month
-- '' (which may already hold the contributions of records of no month), its key left in
-- metric.aggregate_gone (0045) for a publisher holding the period; each of its values likewise
-- into the period's cell (metric.cell, 0041), its key left in metric.measure_gone (0040). The
-- month cells of metric.cell stay (a cell is never deleted; no value refers to them any more).

ALTER TABLE metric.cell DROP CONSTRAINT cell_month_check;
ALTER TABLE metric.cell ADD CONSTRAINT cell_month_check
  CHECK (month ~ '^[0-9]{4}-[0-9]{2}$' OR (month = '' AND breakdown <> 'all'));

WITH old AS (
  DELETE FROM metric.aggregate WHERE breakdown <> 'all' AND month <> ''
  RETURNING audit, period, month, trust, site, metric_id, breakdown, category, numerator,
            denominator, expected_e9, held, missing),
gone AS (
  INSERT INTO metric.aggregate_gone (audit, period, month, trust, site, metric_id, breakdown,
                                     category)
  SELECT audit, period, month, trust, site, metric_id, breakdown, category FROM old)
INSERT INTO metric.aggregate AS a (audit, period, month, trust, site, metric_id, breakdown,
                                   category, numerator, denominator, expected_e9, held, missing)
SELECT audit, period, '', trust, site, metric_id, breakdown, category, sum(numerator)::bigint,
       sum(denominator)::bigint, sum(expected_e9)::bigint, sum(held)::bigint, sum(missing)::bigint
FROM old
GROUP BY audit, period, trust, site, metric_id, breakdown, category
ORDER BY audit, period, trust, site, metric_id, breakdown, category
ON CONFLICT (audit, period, month, trust, site, metric_id, breakdown, category) DO UPDATE SET
  numerator = a.numerator + EXCLUDED.numerator, denominator = a.denominator + EXCLUDED.denominator,
  expected_e9 = a.expected_e9 + EXCLUDED.expected_e9, held = a.held + EXCLUDED.held,
  missing = a.missing + EXCLUDED.missing, write_xid = EXCLUDED.write_xid;

INSERT INTO metric.cell (audit, period, month, trust, site, metric_id, breakdown, category)
SELECT DISTINCT audit, period, '', trust, site, metric_id, breakdown, category
FROM metric.cell WHERE breakdown <> 'all' AND month <> ''
ORDER BY 1, 2, 4, 5, 6, 7, 8
ON CONFLICT DO NOTHING;

WITH old AS (
  DELETE FROM metric.measure m USING metric.cell c
  WHERE c.id = m.cell AND c.breakdown <> 'all' AND c.month <> ''
  RETURNING m.cell, m.value, m.count, c.audit, c.period, c.trust, c.site, c.metric_id,
            c.breakdown, c.category),
gone AS (
  INSERT INTO metric.measure_gone (cell, value) SELECT cell, value FROM old)
INSERT INTO metric.measure AS m (cell, value, count)
SELECT n.id, o.value, sum(o.count)::bigint
FROM old o
JOIN metric.cell n ON (n.audit, n.period, n.month, n.trust, n.site, n.metric_id, n.breakdown,
                       n.category) = (o.audit, o.period, '', o.trust, o.site, o.metric_id,
                                      o.breakdown, o.category)
GROUP BY n.id, o.value
ORDER BY n.id, o.value
ON CONFLICT (cell, value) DO UPDATE SET count = m.count + EXCLUDED.count,
  write_xid = EXCLUDED.write_xid;
