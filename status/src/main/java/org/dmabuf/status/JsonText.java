package org.dmabuf.status;

import java.util.Map;

/**
 * Writes the status page's JSON from plain values: {@link Map} (keys as strings, in the map's order), {@link Iterable},
 * {@link CharSequence}, {@link Number}, {@link Boolean} and null. Strings are escaped for JSON and for being read
 * inside an HTML page: quotes, backslashes and control characters as JSON requires, U+2028 and U+2029 (line ends to
 * JavaScript), and {@code <}, {@code >}, {@code &} as {@code \u003c} and the like, so that a peer's buffer name can
 * never close a {@code <script>} or start markup whatever the consumer does with the text. A lone surrogate (text no
 * UTF-8 can carry) is written as U+FFFD. The core's escaper ({@code org.dmabuf.core.Json}) is private to the core
 * bundle, which exports no package to this one, and does not escape markup. Stateless; any thread.
 */
final class JsonText {
    private JsonText() {
    }

    /**
     * The JSON text of a value.
     *
     * @param value a map, iterable, string, number, boolean or null, nested as deep as wanted
     * @return the JSON document
     * @throws IllegalArgumentException for a value of another type, or a number that JSON cannot hold (NaN,
     *         infinities)
     */
    static String of(Object value) {
        StringBuilder b = new StringBuilder(1024);
        write(b, value);
        return b.toString();
    }

    private static void write(StringBuilder b, Object v) {
        if (v == null) {
            b.append("null");
        } else if (v instanceof CharSequence s) {
            string(b, s.toString());
        } else if (v instanceof Boolean) {
            b.append(v);
        } else if (v instanceof Double || v instanceof Float) {
            double d = ((Number) v).doubleValue();
            if (Double.isNaN(d) || Double.isInfinite(d)) {
                throw new IllegalArgumentException("JSON has no " + d);
            }
            b.append(d);
        } else if (v instanceof Number) {
            b.append(v);
        } else if (v instanceof Map<?, ?> m) {
            b.append('{');
            boolean first = true;
            for (Map.Entry<?, ?> e : m.entrySet()) {
                if (!first) {
                    b.append(',');
                }
                first = false;
                string(b, String.valueOf(e.getKey()));
                b.append(':');
                write(b, e.getValue());
            }
            b.append('}');
        } else if (v instanceof Iterable<?> it) {
            b.append('[');
            boolean first = true;
            for (Object o : it) {
                if (!first) {
                    b.append(',');
                }
                first = false;
                write(b, o);
            }
            b.append(']');
        } else {
            throw new IllegalArgumentException("no JSON for a " + v.getClass().getName());
        }
    }

    /**
     * A JSON string literal, quotes included, safe inside HTML.
     *
     * @param b where it goes
     * @param s the text
     */
    static void string(StringBuilder b, String s) {
        b.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                case '<', '>', '&', '\u2028', '\u2029', '\u007f' -> unicode(b, c);
                default -> {
                    if (c < 0x20) {
                        unicode(b, c);
                    } else if (Character.isHighSurrogate(c) && i + 1 < s.length()
                            && Character.isLowSurrogate(s.charAt(i + 1))) {
                        b.append(c).append(s.charAt(++i));
                    } else if (Character.isSurrogate(c)) {
                        b.append("\\ufffd");
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        b.append('"');
    }

    private static void unicode(StringBuilder b, char c) {
        b.append("\\u");
        String hex = Integer.toHexString(c);
        b.append("0000", hex.length(), 4).append(hex);
    }
}
