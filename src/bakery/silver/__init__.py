"""Silver layer: typed, validated, deduplicated tables built incrementally from bronze, plus inventory."""
