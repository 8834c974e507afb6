"""Source grouping (METHOD step 1): what each source is (format features + topic embedding)."""
