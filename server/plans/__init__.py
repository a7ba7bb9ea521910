"""The next round's sample: proposed from the last round's uncertainty (``analysis.next_round``), edited and
approved by a planner, turned into enumerators' assignments, and read back by the reports' weights.

``proposals`` builds, stores and edits plans; ``approval`` decides who may approve and makes an approved plan
the round's sample; ``frames`` gives the reports and the progress view what approved plans recorded.
"""
