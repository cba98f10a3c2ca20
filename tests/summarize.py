#!/usr/bin/env python3
"""Print the suite's closing line from meson's test log: 'N passed, N failed[, N skipped]'."""
import json
import sys

counts = {"OK": 0, "FAIL": 0, "SKIP": 0}
with open(sys.argv[1]) as log:
    for line in log:
        result = json.loads(line)["result"]
        key = {"EXPECTEDFAIL": "OK", "UNEXPECTEDPASS": "FAIL", "TIMEOUT": "FAIL",
               "ERROR": "FAIL"}.get(result, result)
        counts[key] = counts.get(key, 0) + 1
line = f"{counts['OK']} passed, {counts['FAIL']} failed"
if counts["SKIP"]:
    line += f", {counts['SKIP']} skipped"
print(line)
