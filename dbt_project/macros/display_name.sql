{#- A person's name when an export carries one in an extra column (kept by the loader in `metadata`):
    the first key that reads as a name once case and punctuation are ignored ("Full Name", "Learner Name"). -#}
{% macro display_name(metadata) -%}
    (select nullif(btrim(entry.value), '')
       from jsonb_each_text({{ metadata }}) as entry
      where lower(regexp_replace(entry.key, '[^[:alpha:]]', '', 'g'))
            in ('name', 'fullname', 'displayname', 'learnername', 'participantname', 'volunteername', 'employeename')
      order by entry.key
      limit 1)
{%- endmacro %}
