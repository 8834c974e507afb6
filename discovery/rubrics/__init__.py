"""Self-anchored rubric discovery (METHOD step 2): proposals checked, clustered into anchors."""
