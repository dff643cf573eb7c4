"""warmup.plan() against the fixture simval's simulator reads (suite/testdata/warmup/plan.json):
simval sim --warmup replays the driver's warm-up policies from a Go copy of plan(), and both
read this one file, so neither can change alone.

Run: python3 -m unittest discover -s realkit/drivers -p 'test_*.py'
"""

import json
import os
import unittest

from replay import TraceRequest
from warmup import plan

FIXTURE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "suite", "testdata", "warmup", "plan.json")


class WarmupPlanFixtureTest(unittest.TestCase):
    def test_plan_matches_the_fixture(self):
        with open(FIXTURE) as f:
            doc = json.load(f)
        reqs = [TraceRequest(r["id"], r["arrival_s"], r["prompt_tokens"], r["output_tokens"]) for r in doc["trace"]]
        for case in doc["cases"]:
            got = [[{"id": x.id, "prompt_tokens": x.prompt_tokens, "output_tokens": x.output_tokens} for x in wave]
                   for wave in plan(reqs, case["max_batch"])]
            self.assertEqual(got, case["waves"], f"max_batch {case['max_batch']}")


if __name__ == "__main__":
    unittest.main()
