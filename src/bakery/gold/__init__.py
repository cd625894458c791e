"""Gold layer: daily sales per store x product x day, the point-in-time feature table, the data dictionary."""
