rate <- 0.5
name <- "crlf"
n <- 3L; m <- 4
`odd name` = 2
raw <- r"(C:\path)"
y <<- 9
7 -> z
