package org.dmabuf.core;

/**
 * The one JSON string escaper of the project's tools (the machine check, the system-wide accounting), which print
 * text a peer or a driver controls (buffer names, process names, device names). Stateless; any thread.
 */
final class Json {
    private Json() {
    }

    /**
     * A JSON string literal: quotes, backslashes and control characters escaped ({@code \n} and the like, else
     * {@code \\u00XX}), and U+2028 and U+2029, which JavaScript reads as line ends.
     *
     * @param s the text
     * @return the literal, quotes included
     */
    static String string(String s) {
        StringBuilder b = new StringBuilder(s.length() + 2).append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                default -> {
                    if (c < 0x20 || c == 0x7f || c == 0x2028 || c == 0x2029) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        return b.append('"').toString();
    }
}
