# Logistic regression by gradient descent, in base R only.
#
# Classifies iris versicolor against the two other species from sepal width
# and petal width (standardized).  The classes are not linearly separable,
# so accuracy stays well below 100%.
#
#   tally run train.R epochs=100
#
# The flags are the top-level assignments below (see `tally flags train.R`):
# tally sets them in the run's copy of this script, so it runs unmodified
# both under tally and by hand.  The `#|` lines describe and bound them.

#| description: gradient descent step size
#| min: 0
learning_rate <- 0.1

#| description: passes over the data
#| min: 1
#| max: 100000
epochs <- 50

epochs <- as.integer(epochs)

start <- proc.time()[["elapsed"]]

features <- c("Sepal.Width", "Petal.Width")
scaled <- scale(as.matrix(iris[, features]))
x <- cbind(intercept = 1, scaled)
y <- as.numeric(iris$Species == "versicolor")
n <- nrow(x)

sigmoid <- function(z) 1 / (1 + exp(-z))
beta <- setNames(rep(0, ncol(x)), colnames(x))

for (epoch in seq_len(epochs)) {
  p <- sigmoid(drop(x %*% beta))
  grad <- drop(crossprod(x, p - y)) / n
  beta <- beta - learning_rate * grad

  if (epoch %% 5 == 0 || epoch == epochs) {
    p <- sigmoid(drop(x %*% beta))
    eps <- 1e-12
    loss <- -mean(y * log(p + eps) + (1 - y) * log(1 - p + eps))
    acc <- mean((p > 0.5) == (y == 1))
    cat(sprintf("step: %d\nloss: %.4f\nacc: %.4f\n", epoch, loss, acc))
  }
}

saveRDS(list(coefficients = beta, features = features,
             center = attr(scaled, "scaled:center"),
             scale = attr(scaled, "scaled:scale")),
        "model.rds")
write.csv(data.frame(term = names(beta), estimate = unname(beta)),
          "coefficients.csv", row.names = FALSE)

cat(sprintf("Training finished in %.1f s\n", proc.time()[["elapsed"]] - start))
