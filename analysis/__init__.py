"""Survey analysis: DataFrames in, DataFrames out.

``tidy`` (submissions → respondents, activities, exposure), ``scores``, ``population``
(census target population), ``weights``, ``groups`` (+ ``groups.json``), ``survey``
(design-based estimators), ``change``, ``small_area`` (Fay–Herriot), ``communes`` (commune
small-area estimates), ``risk``, ``priority``, ``report``,
``disclosure`` (small cells).
"""
