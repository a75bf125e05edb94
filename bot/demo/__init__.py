"""Realistic demo data for `runsbot demo-data` and the benchmarks (`runs.fill_demo_data`).

`names` draws names in many languages, `triggers` what each workflow's record makes of a
run, `workflows` the ten workflows, `failures` why runs fail and when in bursts, `clock`
the millisecond times, and `runs` the runs themselves, written through the store's API.
"""
