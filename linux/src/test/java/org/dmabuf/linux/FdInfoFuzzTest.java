package org.dmabuf.linux;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Fuzzes the fdinfo parser ({@link FdInfo#parse}, {@link FdInfo#read}) with random text, with the kernel's text of
 * a dma-buf whose values and lines are mutated, and with names that hold newlines and other keys (a peer names its
 * buffer with {@code DMA_BUF_SET_NAME}). Properties: the parser returns or refuses with {@link LinuxException}
 * {@code EPROTO} naming the key, and nothing else; the kernel's text is read exactly; no name can change another
 * key; reading the fdinfo of real memfds with any name leaves no fd behind. Each input is checked under
 * {@link Fuzz}'s hang limit.
 *
 * <p>Inputs: {@link Fuzz} ({@code -Dfuzz.inputs}, 2000 per property in CI; {@code -Dfuzz.seed}); the long run's one
 * command is in {@code WireFormatFuzzTest}.
 */
class FdInfoFuzzTest {
    private static final String[] KEYS = {"pos", "flags", "mnt_id", "ino", "size", "count", "exp_name", "name"};

    /** The values of a dma-buf's fdinfo. */
    record Kernel(int flags, long ino, long size, long count, String expName, String name) {
        String text() {
            StringBuilder b = new StringBuilder();
            b.append("pos:\t0\n").append("flags:\t").append(Integer.toOctalString(flags)).append('\n');
            b.append("mnt_id:\t15\n").append("ino:\t").append(ino).append('\n');
            b.append("size:\t").append(size).append('\n').append("count:\t").append(count).append('\n');
            b.append("exp_name:\t").append(expName).append('\n');
            if (name != null) {
                b.append("name:\t").append(name).append('\n');
            }
            return b.toString();
        }

        @Override
        public String toString() {
            return "fdinfo " + Fuzz.escape(text());
        }
    }

    /** A line "key: value" of any key the kernel prints, with a separator and a value of any kind. */
    private static String nameLine(SplittableRandom r) {
        String v = r.nextBoolean() ? Fuzz.string(r, Fuzz.DIGITS, 0, 25)
                : Fuzz.oneOf(r, "z", "-1", "", "udmabuf", "0x10", "99999999999999999999999");
        return Fuzz.oneOf(r, KEYS) + Fuzz.oneOf(r, ":\t", ":", ": ", "\t:") + v;
    }

    /** Names as a peer may set them: with newlines, tabs, NULs, any character, and lines of other keys. */
    private static String name(SplittableRandom r) {
        return switch (r.nextInt(4)) {
            case 0 -> Fuzz.string(r, "ab\n\t:\r\u0000é ", 0, 40);
            case 1 -> Fuzz.anyString(r, 0, 40);
            case 2 -> String.join("\n", Fuzz.list(r, 0, 4, FdInfoFuzzTest::nameLine));
            default -> Fuzz.string(r, Fuzz.ALPHA, 0, 5) + "\n" + String.join("\n", Fuzz.list(r, 0, 3,
                    FdInfoFuzzTest::nameLine)) + Fuzz.oneOf(r, "", "\n", "\n\n");
        };
    }

    /** The kernel's fdinfo of a dma-buf, with any values and any name (or none). */
    static Kernel kernelText(SplittableRandom r) {
        return new Kernel(Fuzz.between(r, 0, 0777_7777_7), Fuzz.between(r, 0L, Long.MAX_VALUE),
                Fuzz.between(r, 0L, Long.MAX_VALUE), Fuzz.between(r, 0L, 1L << 20),
                Fuzz.oneOf(r, "system", "udmabuf", "drm", "videobuf2_vmalloc", "i915", "x"),
                Fuzz.orNull(r, 10, () -> name(r)));
    }

    /** Random text: any characters, the characters of fdinfo, or lines of keys with any values. */
    static String randomText(SplittableRandom r) {
        return switch (r.nextInt(3)) {
            case 0 -> Fuzz.anyString(r, 0, 300);
            case 1 -> Fuzz.string(r, "name:flags\t\n0123456789 ", 0, 200);
            default -> String.join("\n", Fuzz.list(r, 0, 12, g -> {
                String k = Fuzz.orNull(g, 5, () -> Fuzz.oneOf(g, KEYS));
                String sep = Fuzz.oneOf(g, ":\t", ":", "", "::");
                String v = switch (g.nextInt(3)) {
                    case 0 -> Fuzz.string(g, Fuzz.DIGITS, 0, 22);
                    case 1 -> Fuzz.anyString(g, 0, 12);
                    default -> Fuzz.oneOf(g, "07", "-5", "+3", " 12 ", "9223372036854775808", "0x1");
                };
                return (k == null ? "" : k) + sep + v;
            }));
        };
    }

    /** A character-level mutation of a text: position, what to do, what to insert. */
    record Edit(int at, int kind, String with) {
        String apply(String s) {
            int i = s.isEmpty() ? 0 : at % (s.length() + 1);
            return switch (kind) {
                case 0 -> s.substring(0, i) + with + s.substring(i); // insert
                case 1 -> i < s.length() ? s.substring(0, i) + s.substring(i + 1) : s; // delete
                case 2 -> s.substring(0, i); // cut
                default -> i < s.length() ? s.substring(0, i) + with + s.substring(i + 1) : s + with; // replace
            };
        }

        @Override
        public String toString() {
            return "Edit[at=" + at + ", kind=" + kind + ", with=" + Fuzz.escape(with) + "]";
        }
    }

    /** From 1 to 5 edits: inserts, deletes, cuts and replacements by separators, keys and any characters. */
    static List<Edit> edits(SplittableRandom r) {
        return Fuzz.list(r, 1, 5, g -> new Edit(Fuzz.between(g, 0, 1000), Fuzz.between(g, 0, 3), g.nextBoolean()
                ? Fuzz.oneOf(g, "\n", ":", "\t", "z", "-", "9", "name:\t", "\nsize:\t", "\nexp_name:\tudmabuf\n",
                        "99999999999999999999")
                : Fuzz.anyString(g, 0, 3)));
    }

    /** A kernel text and its edits. */
    record Edited(Kernel kernel, List<Edit> edits) {
        String text() {
            String text = kernel.text();
            for (Edit e : edits) {
                text = e.apply(text);
            }
            return text;
        }

        @Override
        public String toString() {
            return Fuzz.escape(text()) + ", made from " + kernel + " by " + edits;
        }
    }

    /** A memfd's name and size. */
    record Memfd(String name, int size) {
        @Override
        public String toString() {
            return "memfd " + Fuzz.escape(name) + " of " + size + " bytes";
        }
    }

    private static void parsedOrRefusedTyped(String text) {
        try {
            FdInfo i = FdInfo.parse(text);
            assertThat(i.name()).isNotNull();
            Fuzz.outcome(i.isDmaBuf() ? "parsed, a dma-buf" : "parsed, no exp_name");
        } catch (LinuxException e) {
            assertThat(e.errno()).isEqualTo("EPROTO");
            assertThat(e.getMessage()).containsPattern("'(flags|ino|size|count):' is not a number");
            assertThat(e.getMessage()).as("the value is printed on one line").doesNotContain("\n");
            Fuzz.outcome("EPROTO " + e.getMessage().replaceFirst(".*'(\\w+):' is not a number.*", "$1"));
        }
    }

    @Test
    void randomTextIsParsedOrRefusedTyped() {
        Fuzz.check("FdInfoFuzzTest#randomTextIsParsedOrRefusedTyped", FdInfoFuzzTest::randomText, Fuzz::escape,
                FdInfoFuzzTest::parsedOrRefusedTyped);
    }

    @Test
    void theKernelsTextIsReadExactlyWhateverTheName() {
        Fuzz.check("FdInfoFuzzTest#theKernelsTextIsReadExactlyWhateverTheName", FdInfoFuzzTest::kernelText,
                Kernel::toString, k -> {
                    FdInfo i = FdInfo.parse(k.text());
                    assertThat(i.flags()).isEqualTo(k.flags());
                    assertThat(i.inode()).isEqualTo(k.ino());
                    assertThat(i.size()).as("a name cannot forge the size").isEqualTo(k.size());
                    assertThat(i.count()).isEqualTo(k.count());
                    assertThat(i.expName()).as("a name cannot forge the exporter").isEqualTo(k.expName());
                    assertThat(i.name()).isEqualTo(k.name() == null ? "" : k.name());
                    assertThat(i.isDmaBuf()).isTrue();
                });
    }

    @Test
    void mutatedKernelTextIsParsedOrRefusedTyped() {
        Fuzz.check("FdInfoFuzzTest#mutatedKernelTextIsParsedOrRefusedTyped",
                r -> new Edited(kernelText(r), edits(r)), Edited::toString, e -> parsedOrRefusedTyped(e.text()));
    }

    @Test
    void printableLeavesNoControlCharacter() {
        Fuzz.check("FdInfoFuzzTest#printableLeavesNoControlCharacter", FdInfoFuzzTest::randomText, Fuzz::escape,
                text -> {
                    String p = FdInfo.printable(text);
                    assertThat(p.chars().noneMatch(c -> c < 0x20 || c == 0x7f)).isTrue();
                    if (text.chars().noneMatch(c -> c < 0x20 || c == 0x7f)) {
                        assertThat(p).isSameAs(text);
                    }
                });
    }

    @Test
    void theFdinfoOfAMemfdOfAnyNameIsReadAndLeavesNoFd() {
        // memfd_create takes a C string of up to 249 bytes: no NUL
        Fuzz.check("FdInfoFuzzTest#theFdinfoOfAMemfdOfAnyNameIsReadAndLeavesNoFd",
                r -> new Memfd(Fuzz.filter(r, g -> name(g).replace("\u0000", ""),
                        s -> s.getBytes(StandardCharsets.UTF_8).length <= 249), Fuzz.between(r, 0, 70000)),
                Memfd::toString, m -> {
                    long before = TestSupport.openFds();
                    try (Fd fd = Sys.memfd(m.name(), LibC.MFD_ALLOW_SEALING)) {
                        Sys.ftruncate(fd.get(), m.size());
                        FdInfo i = FdInfo.read(fd.get());
                        assertThat(i.isDmaBuf()).as("a memfd's name is not in its fdinfo: no exp_name").isFalse();
                        assertThat(i.size()).isEqualTo(-1);
                        assertThat(i.inode()).isEqualTo(Sys.fstat(fd.get()).inode());
                        byte[] tiny = new byte[32];
                        assertThat(FdInfo.read(fd.get(), tiny)).as("read into a buffer that must grow").isEqualTo(i);
                    }
                    assertThat(TestSupport.openFds()).isEqualTo(before);
                });
    }
}
