"""From forecast to decision: the newsvendor cost model, the bake plan, and the decision backtest."""
