-- Ids a person has in other systems (Kintell, Buddy, Discord, a course provider), as linked by an
-- operator (POST /v1/profiles/mappings writes ops.external_id_links). The exports identify people by
-- email only, so no mapping is derived from them.
select
    system,
    external_id,
    user_id,
    linked_at,
    linked_by
from {{ source('ops', 'external_id_links') }}
