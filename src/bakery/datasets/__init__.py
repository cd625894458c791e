"""Real data sets shipped with the project (under data/), converted into landing files of the import templates."""
