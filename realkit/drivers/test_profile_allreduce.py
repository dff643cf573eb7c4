"""Tests of the all-reduce profiler's pure parts (hfcb_profile_allreduce.py), without torch.

Run: python3 -m unittest discover -s realkit/drivers -p 'test_*.py'
"""

import csv
import io
import os
import unittest

import hfcb_profile_allreduce as ar

# simkit reads this file in its tests (simkit/tp_test.go): the writer's output for the
# synthetic samples below must stay exactly what simkit was shown to read.
FIXTURE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "simkit", "testdata",
                       "all_reduce-tp2.csv")


def synthetic_median_ms(size):
    """A hand-checkable all-reduce time: 8 µs latency plus 50 GB/s (2e-8 ms per byte)."""
    return 0.008 + 2e-8 * size


def synthetic_results(hidden=1024, budget=256):
    out = []
    for _, size in ar.step_sizes(hidden, "bfloat16", budget):
        m = synthetic_median_ms(size)
        out.append((size, ar.stats_ms([0.9 * m, m, 1.1 * m])))
    return out


class GridTest(unittest.TestCase):
    def test_small_unpadded_then_every_padded_size(self):
        self.assertEqual(ar.step_tokens(256), [1, 2, 4, 8, 16, 32, 64, 128, 192, 256])
        got = ar.step_tokens(8192)
        self.assertEqual(len(got), 6 + 128)
        self.assertEqual(got[-1], 8192)

    def test_quick_keeps_every_eighth_and_the_budget(self):
        self.assertEqual(ar.step_tokens(8192, quick=True),
                         [1, 2, 4, 8, 16, 32] + list(range(64, 8192, 512)) + [8192])

    def test_sizes_are_tokens_times_hidden_times_dtype_bytes(self):
        self.assertEqual(ar.step_sizes(4096, "bfloat16", 128), [(t, t * 8192) for t in (1, 2, 4, 8, 16, 32, 64, 128)])
        with self.assertRaises(ValueError):
            ar.step_sizes(4096, "int8", 128)
        with self.assertRaises(ValueError):
            ar.step_tokens(32)


class StatsTest(unittest.TestCase):
    def test_slower_rank_per_iteration(self):
        self.assertEqual(ar.slower_rank([[1.0, 5.0, 2.0], [3.0, 1.0, 2.5]]), [3.0, 5.0, 2.5])
        with self.assertRaises(ValueError):
            ar.slower_rank([[1.0], [1.0, 2.0]])

    def test_stats(self):
        st = ar.stats_ms([1.0, 2.0, 4.0])
        self.assertEqual((st["min"], st["max"], st["median"]), (1.0, 4.0, 2.0))
        self.assertAlmostEqual(st["mean"], 7 / 3)
        self.assertAlmostEqual(st["std"], ((1 - 7 / 3) ** 2 + (2 - 7 / 3) ** 2 + (4 - 7 / 3) ** 2) ** 0.5 / 3 ** 0.5)
        for bad in ([], [0.0], [float("nan")], [-1.0]):
            with self.assertRaises(ValueError):
                ar.stats_ms(bad)


class CSVTest(unittest.TestCase):
    def test_vidur_layout(self):
        text = ar.csv_text(ar.csv_rows(synthetic_results(), 2, 2, 8))
        rows = list(csv.reader(io.StringIO(text)))
        self.assertEqual(rows[0], ["", "time_stats.all_reduce.min", "time_stats.all_reduce.max",
                                   "time_stats.all_reduce.mean", "time_stats.all_reduce.median",
                                   "time_stats.all_reduce.std", "rank", "num_workers", "size", "collective",
                                   "devices_per_node", "max_devices_per_node"])
        first = rows[1]
        self.assertEqual(first[0], "0")
        self.assertEqual(first[6:], ["0", "2", "2048", "all_reduce", "2", "8"])
        self.assertEqual(float(first[4]), synthetic_median_ms(2048))
        self.assertEqual([int(r[8]) for r in rows[1:]], sorted(int(r[8]) for r in rows[1:]))

    def test_a_repeated_size_is_refused(self):
        st = ar.stats_ms([1.0])
        with self.assertRaises(ValueError):
            ar.csv_rows([(8, st), (8, st)], 2, 2, 2)

    def test_the_simkit_fixture_is_the_writers_output(self):
        with open(FIXTURE, encoding="utf-8", newline="") as f:
            self.assertEqual(f.read(), ar.csv_text(ar.csv_rows(synthetic_results(), 2, 2, 2)))


if __name__ == "__main__":
    unittest.main()
