"""Survey analysis: DataFrames in, DataFrames out.

``tidy`` (submissions → respondents, activities, exposure), ``scores``, ``population``
(census target population), ``weights``, ``groups`` (+ ``groups.json``), ``survey``
(design-based estimators), ``levels`` (per-round levels and their differences), ``change``,
``small_area`` (Fay–Herriot), ``communes`` (commune small-area
estimates), ``risk``, ``priority``, ``report`` (12 November), ``gap_report`` (the whole
awareness-gap report) with its renderers ``report_html`` (+ ``report_charts``) and
``report_tables`` (XLSX, CSV), ``labels`` and ``report_text`` (Vietnamese and English words),
``disclosure`` (small cells).
"""
