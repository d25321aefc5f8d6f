-- Everything a participant did that counts as activity (macros/participant_activities.sql): journeys,
-- company links and metrics read it.
{{ participant_activities() }}
