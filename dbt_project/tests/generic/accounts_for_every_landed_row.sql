{#
    Every landed row is accounted for, file by file, in the landing ledger (`model`):
      * an accepted part: rows = new_rows + conflicting_rows + exact_duplicates, and no row is
        unaccounted (a row neither in the raw history by position nor an exact copy of a row in it);
      * a refused file: none of its rows reached the raw history;
      * each raw history model holds exactly the new and conflicting rows the ledger counts for it,
        and its latest batch (every row with `test_whole_tables`) only rows of files the ledger
        accepted (so no row is in the history twice, or from a file the ledger does not know).
    Returns one row per problem, naming the file or the raw model.
#}
{% test accounts_for_every_landed_row(model) %}
{%- set raws = landing_raw_models() %}

with

files as (
    select
        file as subject,
        case
            when unaccounted_rows <> 0
                then cast(unaccounted_rows as varchar) || ' rows are neither in the raw history nor exact duplicates'
            else 'rows ' || cast(rows as varchar) || ' <> new ' || cast(new_rows as varchar) || ' + conflicting '
                || cast(conflicting_rows as varchar) || ' + exact duplicates ' || cast(exact_duplicates as varchar)
        end as problem
    from {{ model }}
    where kind = 'part' and outcome = 'accepted'
      and (unaccounted_rows <> 0 or rows is null
           or rows <> new_rows + conflicting_rows + exact_duplicates)
),

histories as (
    {%- for raw in raws %}
    select
        '{{ raw.name }}' as subject,
        (select count(*) from {{ raw.relation }}) as in_history,
        (select coalesce(sum(new_rows + conflicting_rows), 0) from {{ model }}
         where kind = 'part' and outcome = 'accepted'
           and entity in ({% for e in raw.entities %}'{{ e }}'{{ ", " if not loop.last }}{% endfor %})) as counted,
        (select count(*) from {{ raw.relation }} as history
         where {{ latest_batch('_ingested_at', raw.relation) }}
           and not exists (
             select 1 from {{ model }} as ledger
             where ledger.file = history._source_file
               and ledger.file_version = history._source_file_version
               and ledger.outcome = 'accepted'
         )) as from_unaccepted_files
    {{ "union all" if not loop.last }}
    {%- endfor %}
),

final as (
    select subject, problem from files
    union all
    select
        subject,
        cast(in_history as varchar) || ' rows in the history, ' || cast(counted as varchar)
            || ' counted by the ledger, ' || cast(from_unaccepted_files as varchar) || ' from files it did not accept'
    from histories
    where in_history <> counted or from_unaccepted_files <> 0
)

select * from final

{% endtest %}
