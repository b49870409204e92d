x = """a
b"""
y = '# no'
z = r"\d"
w = 1_000
v = 0x1F
u: int = -3
_p = 1
if x:
    q = 2
s = "\u00e9\x41"
