"""Survey analysis: DataFrames in, DataFrames out."""
