import argparse
p = argparse.ArgumentParser()
p.add_argument("--lr", type=float, default=0.1, help="step", choices=[0.1, 0.2])
p.add_argument("--fast", action="store_true")
p.add_argument("-v", "--verbose", dest="loud", action="store_false")
