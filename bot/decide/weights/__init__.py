"""Package data for the pure decisions: model weights read with ``importlib.resources``.

``korean_sentiment.tsv.gz`` holds the Korean sentiment model of ``bot.decide.korean``, trained on
CC0 Naver movie reviews (NSMC); see its header and README.md here for where it comes from and
how to rebuild it. Nothing here is read from outside the package or over the network.
"""
