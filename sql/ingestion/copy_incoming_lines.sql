-- Every line of a staged object into the staging table, in the loader's staging columns
-- (ingestion/loader.py), the order its binary rows carry them.
COPY incoming_lines ({columns}) FROM STDIN (FORMAT BINARY)
