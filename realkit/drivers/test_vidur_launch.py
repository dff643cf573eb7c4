"""Tests of simval's Vidur launcher (vidur_launch.py): the stand-ins, and, where Vidur is
installed (scripts/vidur-install.sh), the model and device entries it registers.

Run: python3 -m unittest discover -s realkit/drivers -p 'test_*.py'
"""

import os
import subprocess
import sys
import unittest

import vidur_launch

VIDUR_HOME = os.environ.get("SIMVAL_VIDUR_HOME") or os.path.join(
    os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "simval", "vidur"
)
VIDUR_SRC = os.path.join(VIDUR_HOME, "src")
VIDUR_PYTHON = os.environ.get("SIMVAL_VIDUR_PYTHON", "/usr/bin/python3")


class DDSketchStandInTest(unittest.TestCase):
    def test_exact_summaries(self):
        s = vidur_launch.DDSketch(relative_accuracy=0.001)
        for v in [5.0, 1.0, 3.0, 2.0, 4.0]:
            s.add(v)
        self.assertEqual(s.count, 5)
        self.assertEqual(s.sum, 15.0)
        self.assertEqual(s.avg, 3.0)
        self.assertEqual((s._min, s._max), (1.0, 5.0))
        self.assertEqual(s.get_quantile_value(0.5), 3.0)
        self.assertEqual(s.get_quantile_value(1.0), 5.0)
        self.assertIsNone(s.get_quantile_value(1.5))
        other = vidur_launch.DDSketch()
        other.add(10.0)
        s.merge(other)
        self.assertEqual((s.count, s._max), (6, 10.0))

    def test_empty(self):
        s = vidur_launch.DDSketch()
        self.assertEqual((s.count, s.avg), (0, 0.0))
        self.assertIsNone(s.get_quantile_value(0.5))


class RefusedTest(unittest.TestCase):
    def test_refuses_with_the_name(self):
        refused = vidur_launch._Refused("wandb.init")
        with self.assertRaisesRegex(RuntimeError, "wandb.init is a stand-in supplied by simval"):
            refused(project="x")
        with self.assertRaisesRegex(RuntimeError, "wandb.plot.line is a stand-in"):
            vidur_launch._Refused("wandb.plot").line(x=1)  # attribute chains stay refusals


class EnumTest(unittest.TestCase):
    def test_names_vidur_matches(self):
        self.assertEqual(str(vidur_launch.SimvalDeviceSKUType.H200), "h200")
        self.assertEqual(str(vidur_launch.SimvalNodeSKUType.H200_DGX), "h200_dgx")


@unittest.skipUnless(
    os.path.isfile(os.path.join(VIDUR_SRC, "vidur", "main.py")),
    "no Vidur install at %s (scripts/vidur-install.sh, or set SIMVAL_VIDUR_HOME)" % VIDUR_SRC,
)
class WithVidurTest(unittest.TestCase):
    def run_probe(self, code):
        """Run code in a fresh interpreter after the launcher's set-up (stand-ins, entries)."""
        here = os.path.dirname(os.path.abspath(__file__))
        script = (
            "import sys; sys.path.insert(0, %r); sys.path.insert(0, %r)\n"
            "import vidur_launch\n"
            "vidur_launch.install_stand_ins()\n"
            "entries = vidur_launch.define_entries()\n" % (here, VIDUR_SRC)
        ) + code
        return subprocess.run([VIDUR_PYTHON, "-c", script], capture_output=True, text=True, timeout=120)

    def test_entries_registered(self):
        out = self.run_probe(
            "from vidur.config.model_config import BaseModelConfig\n"
            "from vidur.config.device_sku_config import BaseDeviceSKUConfig\n"
            "from vidur.config.node_sku_config import BaseNodeSKUConfig\n"
            "m = BaseModelConfig.create_from_name('Qwen/Qwen3-0.6B')\n"
            "d = BaseDeviceSKUConfig.create_from_type_string('h200')\n"
            "n = BaseNodeSKUConfig.create_from_type_string('h200_dgx')\n"
            "print(m.num_layers, m.num_q_heads, m.num_kv_heads, m.embedding_dim, m.mlp_hidden_dim, m.vocab_size,"
            " d.total_memory_gb, n.num_devices_per_node)\n"
        )
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(out.stdout.split(), ["28", "16", "8", "1024", "3072", "151936", "141", "8"])

    def test_vidur_imports_with_stand_ins(self):
        out = self.run_probe("import vidur.metrics.metrics_store, wandb\nprint(wandb.run)\n")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(out.stdout.strip(), "None")


if __name__ == "__main__":
    unittest.main()
