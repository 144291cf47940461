package org.dmabuf.linux;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AddLifecycleHook;

/**
 * Fuzzes the fdinfo parser ({@link FdInfo#parse}, {@link FdInfo#read}) with random text, with the kernel's text of
 * a dma-buf whose values and lines are mutated, and with names that hold newlines and other keys (a peer names its
 * buffer with {@code DMA_BUF_SET_NAME}). Properties: the parser returns or refuses with {@link LinuxException}
 * {@code EPROTO} naming the key, and nothing else; the kernel's text is read exactly; no name can change another
 * key; reading the fdinfo of real memfds with any name leaves no fd behind. Each try runs under {@link TryTimeout}.
 *
 * <p>Tries: {@code jqwik.tries.default}, 1000 in CI; the long run's one command is in {@code WireFormatFuzzTest}.
 */
@AddLifecycleHook(TryTimeout.class)
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
    }

    private static Arbitrary<String> names() {
        Arbitrary<String> line = Combinators.combine(Arbitraries.of(KEYS), Arbitraries.of(":\t", ":", ": ", "\t:"),
                Arbitraries.oneOf(Arbitraries.strings().numeric().ofMaxLength(25), Arbitraries.of("z", "-1", "",
                        "udmabuf", "0x10", "99999999999999999999999")))
                .as((k, sep, v) -> k + sep + v);
        return Arbitraries.oneOf(
                Arbitraries.strings().withChars("ab\n\t:\r\u0000é ").ofMaxLength(40),
                Arbitraries.strings().all().ofMaxLength(40),
                line.list().ofMaxSize(4).map(l -> String.join("\n", l)),
                Combinators.combine(Arbitraries.strings().alpha().ofMaxLength(5), line.list().ofMaxSize(3),
                        Arbitraries.of("", "\n", "\n\n"))
                        .as((head, l, tail) -> head + "\n" + String.join("\n", l) + tail));
    }

    @Provide
    Arbitrary<Kernel> kernelTexts() {
        return Combinators.combine(Arbitraries.integers().between(0, 0777_7777_7),
                Arbitraries.longs().greaterOrEqual(0), Arbitraries.longs().greaterOrEqual(0),
                Arbitraries.longs().between(0, 1 << 20),
                Arbitraries.of("system", "udmabuf", "drm", "videobuf2_vmalloc", "i915", "x"),
                names().injectNull(0.1)).as(Kernel::new);
    }

    @Provide
    Arbitrary<String> randomTexts() {
        Arbitrary<String> lines = Combinators.combine(Arbitraries.of(KEYS).injectNull(0.2),
                Arbitraries.of(":\t", ":", "", "::"),
                Arbitraries.oneOf(Arbitraries.strings().numeric().ofMaxLength(22), Arbitraries.strings().all()
                        .ofMaxLength(12), Arbitraries.of("07", "-5", "+3", " 12 ", "9223372036854775808", "0x1")))
                .as((k, sep, v) -> (k == null ? "" : k) + sep + v).list().ofMaxSize(12)
                .map(l -> String.join("\n", l));
        return Arbitraries.oneOf(Arbitraries.strings().all().ofMaxLength(300),
                Arbitraries.strings().withChars("name:flags\t\n0123456789 ").ofMaxLength(200), lines);
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
    }

    @Provide
    Arbitrary<List<Edit>> edits() {
        return Combinators.combine(Arbitraries.integers().between(0, 1000), Arbitraries.integers().between(0, 3),
                Arbitraries.oneOf(Arbitraries.of("\n", ":", "\t", "z", "-", "9", "name:\t", "\nsize:\t",
                        "\nexp_name:\tudmabuf\n", "99999999999999999999"), Arbitraries.strings().all().ofMaxLength(3)))
                .as(Edit::new).list().ofMinSize(1).ofMaxSize(5);
    }

    private static void parsedOrRefusedTyped(String text) {
        try {
            FdInfo i = FdInfo.parse(text);
            assertThat(i.name()).isNotNull();
        } catch (LinuxException e) {
            assertThat(e.errno()).isEqualTo("EPROTO");
            assertThat(e.getMessage()).containsPattern("'(flags|ino|size|count):' is not a number");
            assertThat(e.getMessage()).as("the value is printed on one line").doesNotContain("\n");
        }
    }

    @Property
    void randomTextIsParsedOrRefusedTyped(@ForAll("randomTexts") String text) {
        parsedOrRefusedTyped(text);
    }

    @Property
    void theKernelsTextIsReadExactlyWhateverTheName(@ForAll("kernelTexts") Kernel k) {
        FdInfo i = FdInfo.parse(k.text());
        assertThat(i.flags()).isEqualTo(k.flags());
        assertThat(i.inode()).isEqualTo(k.ino());
        assertThat(i.size()).as("a name cannot forge the size").isEqualTo(k.size());
        assertThat(i.count()).isEqualTo(k.count());
        assertThat(i.expName()).as("a name cannot forge the exporter").isEqualTo(k.expName());
        assertThat(i.name()).isEqualTo(k.name() == null ? "" : k.name());
        assertThat(i.isDmaBuf()).isTrue();
    }

    @Property
    void mutatedKernelTextIsParsedOrRefusedTyped(@ForAll("kernelTexts") Kernel k, @ForAll("edits") List<Edit> edits) {
        String text = k.text();
        for (Edit e : edits) {
            text = e.apply(text);
        }
        parsedOrRefusedTyped(text);
    }

    @Property
    void printableLeavesNoControlCharacter(@ForAll("randomTexts") String text) {
        String p = FdInfo.printable(text);
        assertThat(p.chars().noneMatch(c -> c < 0x20 || c == 0x7f)).isTrue();
        if (text.chars().noneMatch(c -> c < 0x20 || c == 0x7f)) {
            assertThat(p).isSameAs(text);
        }
    }

    @Provide
    Arbitrary<String> memfdNames() {
        // memfd_create takes a C string of up to 249 bytes: no NUL
        return names().map(s -> s.replace("\u0000", "")).filter(s -> s.getBytes(StandardCharsets.UTF_8).length <= 249);
    }

    @Property
    void theFdinfoOfAMemfdOfAnyNameIsReadAndLeavesNoFd(@ForAll("memfdNames") String name,
            @ForAll @net.jqwik.api.constraints.IntRange(min = 0, max = 70000) int size) {
        long before = TestSupport.openFds();
        try (Fd m = Sys.memfd(name, LibC.MFD_ALLOW_SEALING)) {
            Sys.ftruncate(m.get(), size);
            FdInfo i = FdInfo.read(m.get());
            assertThat(i.isDmaBuf()).as("a memfd's name is not in its fdinfo: no exp_name").isFalse();
            assertThat(i.size()).isEqualTo(-1);
            assertThat(i.inode()).isEqualTo(Sys.fstat(m.get()).inode());
            byte[] tiny = new byte[32];
            assertThat(FdInfo.read(m.get(), tiny)).as("read into a buffer that must grow").isEqualTo(i);
        }
        assertThat(TestSupport.openFds()).isEqualTo(before);
    }
}
