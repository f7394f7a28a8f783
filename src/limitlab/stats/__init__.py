"""Statistics behind a trustworthy verdict: exact binomial intervals, the weighted bootstrap, and
summaries of robustness curves. Import from the submodules (`limitlab.stats.binomial`, ...)."""
