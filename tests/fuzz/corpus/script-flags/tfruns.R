FLAGS <- flags(
  flag_numeric("dropout1", 0.4, "Dropout"),
  flag_integer(name = "units", default = 128L),
  flag_boolean("aug", FALSE),
  flag_string("opt", "adam")
)
