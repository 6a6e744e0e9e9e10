-- 0033 (issue 14): the delay ledger (0026) and a final's late records (0028) kept per statement,
-- not per row. Their triggers on publish.seen ran a PL/pgSQL function for each record version a
-- round of publish marks published: two lookups and two upserts of publish.delay each, about
-- 0.14 ms a record, most of a round's time (553 ms of 676 for 4,000 records). The same counts now
-- come from one statement per trigger over the statement's rows (its transition tables): the
-- histograms get each (audit, period, trust, stage, delay) once with the records it adds, the
-- late records are upserted or deleted together. What they count is unchanged: a version
-- inserted, or updated to another version (the delays), or to another version or quarter (the
-- late records); with the same rights (SECURITY DEFINER: publish reads no receipt or event time).

-- The delays of the versions given (publish.seen's rows as they are now, a column an array), as
-- publish.delay_count
-- counted them one at a time: received (ingest.raw_record) to published, and the event (the
-- period field, metric.record_state.event_at) to received; none for a version with no quarter, no
-- receipt or no state of that version.
CREATE FUNCTION publish.delay_add(ids bigint[], versions integer[], audits text[],
                                  periods text[], published timestamptz[]) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
  INSERT INTO publish.delay AS d (audit, period, trust, stage, delay_s, records)
  SELECT n.audit, n.period, m.trust, v.stage, v.delay_s, count(*)
  FROM unnest(ids, versions, audits, periods, published) n (record_id, version, audit, period,
                                                            published_at)
  JOIN ingest.raw_record r ON r.record_id = n.record_id AND r.version = n.version
  JOIN metric.record_state m ON m.record_id = n.record_id AND m.version = n.version
  CROSS JOIN LATERAL (
    SELECT 'event_to_submission',
           (floor(extract(epoch FROM r.ingested_at - m.event_at) / 86400) * 86400)::bigint
    WHERE m.event_at IS NOT NULL
    UNION ALL
    SELECT 'submission_to_publication', CASE WHEN s < 3600 THEN s WHEN s < 86400 THEN s / 60 * 60
           ELSE s / 3600 * 3600 END
    FROM (SELECT greatest(floor(extract(epoch FROM n.published_at - r.ingested_at)), 0)::bigint
          AS s) p) v (stage, delay_s)
  WHERE n.period IS NOT NULL AND m.trust IS NOT NULL
  GROUP BY 1, 2, 3, 4, 5
  ON CONFLICT (audit, period, trust, stage, delay_s) DO UPDATE SET records = d.records + EXCLUDED.records
$$;

-- The late records of the versions given, as publish.final_late_count kept them one at a time:
-- for each final of the version's audit received after its cutoff, the record is late in the
-- final's year when its quarter is one of that year's (added, or corrected when a version of it
-- was received by the cutoff), and not late otherwise. Nothing without a final.
CREATE FUNCTION publish.final_late_add(ids bigint[], versions integer[], audits text[],
                                       periods text[]) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
  WITH x AS (
    SELECT n.audit, n.record_id, n.period, f.year, f.cutoff,
           coalesce(n.period IN (f.year || 'Q2', f.year || 'Q3', f.year || 'Q4',
                                 (f.year + 1) || 'Q1'), false) AS late
    FROM unnest(ids, versions, audits, periods) n (record_id, version, audit, period)
    JOIN publish.final f ON f.audit = n.audit
    JOIN ingest.raw_record r ON r.record_id = n.record_id AND r.version = n.version
    WHERE r.ingested_at > f.cutoff),
  ins AS (
    INSERT INTO publish.final_late AS l
    SELECT x.audit, x.year, x.record_id, coalesce(m.trust, ''), x.period,
           EXISTS (SELECT 1 FROM ingest.raw_record e WHERE e.record_id = x.record_id
                   AND e.ingested_at <= x.cutoff)
    FROM x LEFT JOIN metric.record_state m ON m.record_id = x.record_id
    WHERE x.late
    ON CONFLICT (audit, year, record_id) DO UPDATE SET period = EXCLUDED.period,
      trust = EXCLUDED.trust)
  DELETE FROM publish.final_late l USING x
  WHERE NOT x.late AND l.audit = x.audit AND l.year = x.year AND l.record_id = x.record_id
$$;

CREATE FUNCTION publish.seen_inserted() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  PERFORM publish.delay_add(array_agg(record_id), array_agg(version), array_agg(audit),
                            array_agg(period), array_agg(published_at)) FROM new_rows;
  IF EXISTS (SELECT 1 FROM publish.final) THEN
    PERFORM publish.final_late_add(array_agg(record_id), array_agg(version), array_agg(audit),
                                   array_agg(period)) FROM new_rows;
  END IF;
  RETURN NULL;
END $$;

-- An update of the same version (a link revision) adds no delay; of the same version in the same
-- quarter, no late record.
CREATE FUNCTION publish.seen_updated() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  PERFORM publish.delay_add(array_agg(n.record_id), array_agg(n.version), array_agg(n.audit),
                            array_agg(n.period), array_agg(n.published_at))
    FROM new_rows n JOIN old_rows o ON o.record_id = n.record_id WHERE o.version <> n.version;
  IF EXISTS (SELECT 1 FROM publish.final) THEN
    PERFORM publish.final_late_add(array_agg(n.record_id), array_agg(n.version),
                                   array_agg(n.audit), array_agg(n.period))
      FROM new_rows n JOIN old_rows o ON o.record_id = n.record_id
      WHERE o.version <> n.version OR o.period IS DISTINCT FROM n.period;
  END IF;
  RETURN NULL;
END $$;

REVOKE ALL ON FUNCTION publish.delay_add(bigint[], integer[], text[], text[], timestamptz[]),
  publish.final_late_add(bigint[], integer[], text[], text[]), publish.seen_inserted(),
  publish.seen_updated() FROM PUBLIC;

DROP TRIGGER seen_delay ON publish.seen;
DROP TRIGGER seen_final_late ON publish.seen;
DROP FUNCTION publish.delay_count();
DROP FUNCTION publish.final_late_count();
CREATE TRIGGER seen_ledgers_inserted AFTER INSERT ON publish.seen
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION publish.seen_inserted();
CREATE TRIGGER seen_ledgers_updated AFTER UPDATE ON publish.seen
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION publish.seen_updated();
