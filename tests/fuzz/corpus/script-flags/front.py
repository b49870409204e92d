#| flags:
#|   lr: {default: 0.1, min: 0, max: 1, type: float}
#|   name: mlp
#| flags-dest: conf/flags.json

lr = 0.3
