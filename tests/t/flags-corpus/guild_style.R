#!/usr/bin/env Rscript
#| flags-dest: globals
#| sourcecode:
#|   - exclude: "*.rds"

library(stats)

#| description: Number of hidden units
#| min: 8
#| max: 1024
units <- 64L
learning_rate = 0.001      # `=` works too
#| choices: [relu, tanh, sigmoid]
activation <- "relu"
epochs <- 10
verbose <- TRUE
seed <- -1
label <- 'it\'s "quoted"'

units <- 128                # reassigned: the first assignment wins
steps <- epochs * 100       # an expression, not a flag
weights <- c(1, 2, 3)
train <- function(x, lr = 0.1) {
  inner <- 5
  x * lr
}
if (verbose) {
  msg <- "verbose"
} else {
  msg <- "quiet"
}
result <- data.frame(a = 1) |>
  transform(b = 2)
message("x <- 5 is only text")
threshold <-
  0.5                       # continued on the next line: still one statement, not a one-line literal
