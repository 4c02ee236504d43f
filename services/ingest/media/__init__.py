"""Rich values of runs (images, Plotly figures, HTML, tables, histograms, text): the typed media index,
written by AddMediaEntries; the bytes are content-addressed blobs of the run's project."""
