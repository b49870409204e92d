#!/usr/bin/env Rscript
#| flags-dest: flags.yml
#| sourcecode:
#|   - exclude: "*.csv"

#| description: units
#| min: 16
#| max: 256
units <- 64
#| choices: [relu, tanh]
act = "relu"
f <- function(x) {
  y <- 1
}
raw <- r"(a\b)"
