{#- The normalised form of a free text whose SHA-256 identifies it: Unicode NFC, runs of whitespace
    (ASCII and the Unicode spaces) as one space, trimmed. Case is kept: lower() follows the database's
    locale, and teei.outcomes.text.normalise_text must give the same answer in Python. -#}
{% macro normalised_text(column) -%}
    regexp_replace(
        regexp_replace(normalize({{ column }}, NFC), '[ \t\n\r\f\v\u00a0\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+', ' ', 'g'),
        '^ | $', '', 'g'
    )
{%- endmacro %}

{#- `en`, `uk` or `other` from the letters of a text: mostly Cyrillic without Russian-only letters is
    Ukrainian; mostly Latin with more English function words than Scandinavian/German ones is English;
    everything else (no letters, emoji only, other scripts and languages) is other. Character ranges are
    explicit because case-insensitive matching of Cyrillic depends on the database's locale. -#}
{% macro detected_language(column) -%}
    case
        when regexp_count({{ column }}, '[Ѐ-ӿ]') > regexp_count({{ column }}, '[A-Za-z]') then
            case
                when {{ column }} ~ '[ІіЇїЄєҐґ]' then 'uk'
                when {{ column }} ~ '[ЫыЭэЪъЁё]' then 'other'
                else 'uk'
            end
        when regexp_count({{ column }}, '[A-Za-z]') = 0 then 'other'
        when regexp_count(lower({{ column }}),
                '\m(i|a|an|the|and|is|are|was|were|to|of|in|on|at|it|we|my|me|you|he|she|they|with|not|but|very|for|this|that|have|has|had|feel|got|be|so|too|really|much|more|about|from|our|his|her|can|do|did|don''t|its|am)\M')
            > regexp_count(lower({{ column }}),
                '\m(og|jeg|ikke|det|er|på|med|til|som|har|en|et|vi|du|han|hun|der|die|das|und|ich|nicht|ist|mit|le|la|les|et|est|je|que|el|los|y|es|para)\M')
            then 'en'
        else 'other'
    end
{%- endmacro %}
