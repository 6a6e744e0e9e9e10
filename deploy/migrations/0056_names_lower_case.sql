-- 0056: names lower-cased beyond ASCII in the patient index (linkage.block) and the term
-- frequencies (linkage.match_term_freq).
--
-- Linkage lower-cased names in ASCII only (fs_model.c), so a name written in capitals by one
-- hospital's system and in mixed case by another's disagreed wherever a letter lay beyond ASCII:
-- "ZOË" was held as "zoË", "Zoë" as "zoë", "MÜLLER" as "mÜller"; the forename blocking key
-- ("f:<forename>:<year of birth>:<initial>") differed, and a record found its patient through
-- its other keys only, with its forename or surname scored as a disagreement. Now each capital
-- letter of U+0080-U+07FF whose lower case is one letter in that range is lowered (utf8_lower,
-- common/base/utf8.h: the Latin letters of Western and Eastern European names, Greek, Cyrillic,
-- Armenian; 440 pairs, Unicode's simple lowercase mappings). linkage.fold_case holds the same
-- pairs (test_utf8.c checks that they agree), and the identifiers already stored are lowered here
-- as a record's would be now: a row of the index whose forename or surname changes is written
-- again with its key lowered (only a forename key holds letters beyond ASCII; the other keys are
-- digits, ASCII letters and the postcode), and dropped where its patient already holds the
-- lowered row. One pass over linkage.block's rows with a character beyond ASCII in a name.

CREATE OR REPLACE FUNCTION linkage.fold_case(t text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT translate(t,
    'ÀÁÂÃÄÅÆÇÈÉÊËÌÍÎÏÐÑÒÓÔÕÖØÙÚÛÜÝÞĀĂĄĆĈĊČĎĐĒ'
    || 'ĔĖĘĚĜĞĠĢĤĦĨĪĬĮĲĴĶĹĻĽĿŁŃŅŇŊŌŎŐŒŔŖŘŚŜŞŠŢŤŦ'
    || 'ŨŪŬŮŰŲŴŶŸŹŻŽƁƂƄƆƇƉƊƋƎƏƐƑƓƔƖƗƘƜƝƟƠƢƤƦƧƩƬƮ'
    || 'ƯƱƲƳƵƷƸƼǄǅǇǈǊǋǍǏǑǓǕǗǙǛǞǠǢǤǦǨǪǬǮǱǲǴǶǷǸǺǼǾ'
    || 'ȀȂȄȆȈȊȌȎȐȒȔȖȘȚȜȞȠȢȤȦȨȪȬȮȰȲȻȽɁɃɄɅɆɈɊɌɎͰͲͶ'
    || 'ͿΆΈΉΊΌΎΏΑΒΓΔΕΖΗΘΙΚΛΜΝΞΟΠΡΣΤΥΦΧΨΩΪΫϏϘϚϜϞϠ'
    || 'ϢϤϦϨϪϬϮϴϷϹϺϽϾϿЀЁЂЃЄЅІЇЈЉЊЋЌЍЎЏАБВГДЕЖЗИЙ'
    || 'КЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯѠѢѤѦѨѪѬѮѰѲѴѶѸѺѼѾҀҊ'
    || 'ҌҎҐҒҔҖҘҚҜҞҠҢҤҦҨҪҬҮҰҲҴҶҸҺҼҾӀӁӃӅӇӉӋӍӐӒӔӖӘӚ'
    || 'ӜӞӠӢӤӦӨӪӬӮӰӲӴӶӸӺӼӾԀԂԄԆԈԊԌԎԐԒԔԖԘԚԜԞԠԢԤԦԨԪ'
    || 'ԬԮԱԲԳԴԵԶԷԸԹԺԻԼԽԾԿՀՁՂՃՄՅՆՇՈՉՊՋՌՍՎՏՐՑՒՓՔՕՖ',
    'àáâãäåæçèéêëìíîïðñòóôõöøùúûüýþāăąćĉċčďđē'
    || 'ĕėęěĝğġģĥħĩīĭįĳĵķĺļľŀłńņňŋōŏőœŕŗřśŝşšţťŧ'
    || 'ũūŭůűųŵŷÿźżžɓƃƅɔƈɖɗƌǝəɛƒɠɣɩɨƙɯɲɵơƣƥʀƨʃƭʈ'
    || 'ưʊʋƴƶʒƹƽǆǆǉǉǌǌǎǐǒǔǖǘǚǜǟǡǣǥǧǩǫǭǯǳǳǵƕƿǹǻǽǿ'
    || 'ȁȃȅȇȉȋȍȏȑȓȕȗșțȝȟƞȣȥȧȩȫȭȯȱȳȼƚɂƀʉʌɇɉɋɍɏͱͳͷ'
    || 'ϳάέήίόύώαβγδεζηθικλμνξοπρστυφχψωϊϋϗϙϛϝϟϡ'
    || 'ϣϥϧϩϫϭϯθϸϲϻͻͼͽѐёђѓєѕіїјљњћќѝўџабвгдежзий'
    || 'клмнопрстуфхцчшщъыьэюяѡѣѥѧѩѫѭѯѱѳѵѷѹѻѽѿҁҋ'
    || 'ҍҏґғҕҗҙқҝҟҡңҥҧҩҫҭүұҳҵҷҹһҽҿӏӂӄӆӈӊӌӎӑӓӕӗәӛ'
    || 'ӝӟӡӣӥӧөӫӭӯӱӳӵӷӹӻӽӿԁԃԅԇԉԋԍԏԑԓԕԗԙԛԝԟԡԣԥԧԩԫ'
    || 'ԭԯաբգդեզէըթժիլխծկհձղճմյնշոչպջռսվտրցւփքօֆ')
$$;
REVOKE ALL ON FUNCTION linkage.fold_case(text) FROM PUBLIC;

-- The rows to lower: a name with a character beyond ASCII (more bytes than characters, a cheap
-- test first) that folding changes, written again lowered (a patient holding both forms keeps
-- one: the conflict clause), the old rows deleted by the same statement (its snapshot is before
-- the insert: it sees only the old rows, none of which is a lowered one).
WITH f AS (
  SELECT key, patient_id, nhs_number, forename, surname, dob, sex, postcode
  FROM linkage.block
  WHERE (octet_length(forename) <> length(forename) OR octet_length(surname) <> length(surname))
    AND (forename <> linkage.fold_case(forename) OR surname <> linkage.fold_case(surname))),
lowered AS (
  INSERT INTO linkage.block (key, patient_id, nhs_number, forename, surname, dob, sex, postcode)
    SELECT linkage.fold_case(key), patient_id, nhs_number, linkage.fold_case(forename),
           linkage.fold_case(surname), dob, sex, postcode
    FROM f
    ON CONFLICT DO NOTHING)
DELETE FROM linkage.block b USING f
  WHERE (b.key, b.patient_id, b.nhs_number, b.forename, b.surname, b.dob, b.sex, b.postcode)
      = (f.key, f.patient_id, f.nhs_number, f.forename, f.surname, f.dob, f.sex, f.postcode);

-- a name's term frequency under its lowered form: two forms of one name add up (at most 1)
INSERT INTO linkage.match_term_freq AS m (field, value, frequency)
  SELECT field, linkage.fold_case(value), least(1, sum(frequency))
  FROM linkage.match_term_freq
  WHERE field IN ('forename', 'surname') AND value <> linkage.fold_case(value)
  GROUP BY 1, 2
  ON CONFLICT (field, value) DO UPDATE SET frequency = least(1, m.frequency + excluded.frequency);
DELETE FROM linkage.match_term_freq
  WHERE field IN ('forename', 'surname') AND value <> linkage.fold_case(value);
