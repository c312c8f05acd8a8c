"""Dumps every message of BUFR files as ecCodes (python3-eccodes) decodes them, as JSON.

Usage: /usr/bin/python3 eccodes-dump.py FILE...

Per message: {"file", "index", "ok", "error"?, "compressed", "subsets", "codes"?, "values"}.
"values" is ecCodes' numericValues, one list per subset, with strings resolved from stringValues
(ecCodes stores a string as (string number) * 1000 + length) and missing as null. "codes" is
expandedCodes for compressed messages, whose layout is identical in every subset; "texts" their
strings per text element.
"""
import json
import sys

import eccodes as ec

MISSING = -1e100


def compressed_texts(h):
    """Strings of a compressed message, one list (one string, or one per subset) per text element,
    in data order: stringValues stores a string once when all subsets share it."""
    texts = []
    it = ec.codes_bufr_keys_iterator_new(h)
    started = False
    while ec.codes_bufr_keys_iterator_next(it):
        key = ec.codes_bufr_keys_iterator_get_name(it)
        if key == 'unexpandedDescriptors':
            started = True
            continue
        if started and ec.codes_get_native_type(h, key) is str:
            size = ec.codes_get_size(h, key)
            texts.append(list(ec.codes_get_string_array(h, key)) if size > 1 else [ec.codes_get_string(h, key)])
    ec.codes_bufr_keys_iterator_delete(it)
    return texts


def dump(path):
    out = []
    with open(path, 'rb') as f:
        index = 0
        while True:
            try:
                h = ec.codes_bufr_new_from_file(f)
            except Exception as e:  # the message cannot even be framed
                out.append({'file': path, 'index': index, 'ok': False, 'error': str(e)})
                break
            if h is None:
                break
            entry = {'file': path, 'index': index}
            try:
                ec.codes_set(h, 'unpack', 1)
                nsub = ec.codes_get(h, 'numberOfSubsets')
                compressed = ec.codes_get(h, 'compressedData') == 1
                nv = list(ec.codes_get_array(h, 'numericValues')) if nsub > 0 else []
                try:
                    sv = list(ec.codes_get_string_array(h, 'stringValues'))
                except Exception:
                    sv = []
                codes = [int(c) for c in ec.codes_get_array(h, 'expandedCodes')]
                entry.update({'ok': True, 'compressed': compressed, 'subsets': nsub, 'values': [], 'strings': sv})
                if compressed:
                    entry['codes'] = codes
                    entry['texts'] = compressed_texts(h)
                entry['values'] = [None if v == MISSING else v for v in nv]
            except Exception as e:
                entry.update({'ok': False, 'error': str(e)})
            finally:
                ec.codes_release(h)
            out.append(entry)
            index += 1
    return out


if __name__ == '__main__':
    result = []
    for p in sys.argv[1:]:
        result.extend(dump(p))
    json.dump(result, sys.stdout)
