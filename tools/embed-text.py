#!/usr/bin/env python3
# Writes a C file defining `const char NAME[]` (and NAME_len) with the bytes of a text file, so
# shipped data (the list of citable articles) is part of the library. Used by the build.
import sys

name, src, out = sys.argv[1], sys.argv[2], sys.argv[3]
data = open(src, 'rb').read()
with open(out, 'w') as f:
    f.write('/* Generated from %s by tools/embed-text.py: do not edit. */\n' % src.split('/')[-1])
    f.write('#include <stddef.h>\n')
    f.write('extern const char %s[];\nextern const size_t %s_len;\n' % (name, name))
    f.write('const char %s[] = \n' % name)
    for i in range(0, len(data), 64):
        chunk = data[i:i + 64]
        f.write('    "' + ''.join('\\%03o' % b for b in chunk) + '"\n')
    if not data:
        f.write('    ""\n')
    f.write(';\nconst size_t %s_len = %d;\n' % (name, len(data)))
