-- Every activity that counts for a company, one row per company and record, in the UTC calendar month it
-- was completed (docs/metrics.md, readings 1 and 2): what the company's volunteers did with participants,
-- and the courses completed and credentials issued by participants linked to the company (through one of
-- its volunteers) before that month ended. A participant linked to two companies counts for both.
-- The rows come from macros/metrics.sql (company_activity_rows), which the incremental metrics models
-- also use, bounded to the people they recompute.
{{ company_activity_rows() }}
