library(keras)
library(tfruns)

# Hyperparameter flags, as in the tfruns overview
FLAGS <- flags(
  flag_numeric("dropout1", 0.4, "Dropout after the first layer"),
  flag_numeric("dropout2", 0.3),
  flag_integer("dense_units", 128L, description = "Units of the hidden layer"),
  flag_boolean("augment", FALSE),
  flag_string(name = "optimizer", default = "rmsprop")
)

mnist <- dataset_mnist()
x_train <- mnist$train$x
batch_size <- 128   # not a flag: tfruns scripts declare theirs

model <- keras_model_sequential() %>%
  layer_dense(units = FLAGS$dense_units, activation = 'relu', input_shape = c(784)) %>%
  layer_dropout(rate = FLAGS$dropout1) %>%
  layer_dense(units = 10, activation = 'softmax')
