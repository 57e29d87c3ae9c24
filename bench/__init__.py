"""Side-by-side benchmarks: the app against the lesson's PHP page, orchestrate.py against Compose.

Run ``python -m bench`` (``--help`` for the options). Figures are measured in one run on one
machine, interleaved, and reported as ratios with medians: absolute times on a shared machine
say little, the ratio of two things measured side by side says more.
"""
