package org.dmabuf.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.sun.jna.Native;
import com.sun.jna.Pointer;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.ReadOnlyBufferException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.dmabuf.api.BufferReleasedException;
import org.dmabuf.api.BufferRequest;
import org.dmabuf.api.CpuAccess;
import org.dmabuf.api.DmaBuf;
import org.dmabuf.api.SyncDirection;
import org.dmabuf.linux.Mapping;
import org.junit.jupiter.api.Test;

/**
 * Zero-copy CPU views ({@link CpuAccess#byteBuffer()}): they are the buffer's memory, as an independent mapping of
 * its fd sees it; they follow the access's direction and lifetime; and a view left behind after the buffer's release
 * never reaches the buffer's memory and never crashes: its addresses hold private zero pages until it is collected.
 */
class CpuAccessViewTest extends RegistryFixture {

    @Test
    void aViewIsTheBuffersMemoryBothWaysInNativeOrder() {
        try (DmaBuf buf = scope.allocate(BufferRequest.ofSize(3 * 4096).name("view"));
                Mapping other = Mapping.map(buf.fd(), buf.size(), "an independent mapping")) {
            Pointer p = other.pointer();
            try (CpuAccess w = buf.beginCpuAccess(SyncDirection.READ_WRITE)) {
                ByteBuffer v = w.byteBuffer();
                assertThat(v.isDirect()).isTrue();
                assertThat(v.order()).isEqualTo(ByteOrder.nativeOrder());
                assertThat(v.capacity()).isEqualTo((int) buf.size());
                v.putLong(8200, 0x1122334455667788L);
                assertThat(p.getLong(8200)).as("written through the view, read through another mmap of the fd")
                        .isEqualTo(0x1122334455667788L);
                p.setInt(40, 0xCAFE);
                assertThat(v.getInt(40)).as("written through another mmap, read through the view").isEqualTo(0xCAFE);
                assertThat(w.getLong(8200)).as("the accessors see the same bytes").isEqualTo(0x1122334455667788L);
            }
        }
    }

    @Test
    void aPartialViewStartsAtItsOffsetAndARangeOutsideTheBufferIsRefused() {
        try (DmaBuf buf = scope.allocate(BufferRequest.ofSize(8192).name("part"));
                CpuAccess w = buf.beginCpuAccess(SyncDirection.WRITE)) {
            ByteBuffer part = w.byteBuffer(4096, 100);
            assertThat(part.capacity()).isEqualTo(100);
            part.put(0, (byte) 7).put(99, (byte) 9);
            assertThat(w.byteBuffer().get(4096)).isEqualTo((byte) 7);
            assertThat(w.byteBuffer().get(4195)).isEqualTo((byte) 9);
            assertThatThrownBy(() -> w.byteBuffer(8000, 193)).isInstanceOf(IndexOutOfBoundsException.class)
                    .hasMessageContaining("byteBuffer").hasMessageContaining("8192");
            assertThatThrownBy(() -> w.byteBuffer(-1, 1)).isInstanceOf(IndexOutOfBoundsException.class);
            assertThatThrownBy(() -> w.byteBuffer(0, -1)).isInstanceOf(IndexOutOfBoundsException.class);
        }
    }

    @Test
    void aReadAccessGivesAReadOnlyViewAndNoViewIsMadeAfterTheEnd() {
        try (DmaBuf buf = scope.allocate(BufferRequest.ofSize(4096).name("ro"))) {
            CpuAccess r = buf.beginCpuAccess(SyncDirection.READ);
            ByteBuffer v = r.byteBuffer();
            assertThat(v.isReadOnly()).isTrue();
            assertThatThrownBy(() -> v.put(0, (byte) 1)).isInstanceOf(ReadOnlyBufferException.class);
            assertThat(r.byteBuffer(0, 16).isReadOnly()).isTrue();
            r.close();
            assertThatThrownBy(r::byteBuffer).isInstanceOf(BufferReleasedException.class)
                    .hasMessageContaining("byteBuffer").hasMessageContaining("ended");
            assertThatThrownBy(() -> r.byteBuffer(0, 1)).isInstanceOf(BufferReleasedException.class);
        }
    }

    @Test
    void aScanThroughTheViewSeesWhatTheAccessorsSee() {
        try (DmaBuf buf = scope.allocate(BufferRequest.ofSize(64 * 1024).name("scan"));
                CpuAccess w = buf.beginCpuAccess(SyncDirection.READ_WRITE)) {
            for (long off = 0; off < buf.size(); off += 8) {
                w.putLong(off, off * 31 + 5);
            }
            ByteBuffer v = w.byteBuffer();
            long viaView = 0;
            for (int i = 0; i < v.capacity(); i += 8) {
                viaView += v.getLong(i);
            }
            long viaAccessor = 0;
            for (long off = 0; off < buf.size(); off += 8) {
                viaAccessor += w.getLong(off);
            }
            assertThat(viaView).isEqualTo(viaAccessor).isNotZero();
        }
    }

    @Test
    void aViewLeftBehindAfterTheReleaseNeitherReachesTheBufferNorCrashesAndIsUnmappedOnceCollected() {
        DmaBuf buf = scope.allocate(BufferRequest.ofSize(2 * 4096).name("stale"));
        GuardedMemory memory = ((Handle) buf).buffer.mmap("test");
        ByteBuffer[] stale = new ByteBuffer[1];
        long address;
        try (CpuAccess w = buf.beginCpuAccess(SyncDirection.READ_WRITE)) {
            stale[0] = w.byteBuffer().slice(4096, 4096); // derived views keep their root reachable
            stale[0].putLong(0, 42);
            address = Pointer.nativeValue(Native.getDirectBufferPointer(w.byteBuffer()));
        }
        assertThat(stale[0].getLong(0)).as("valid until the release, not beyond the access: documented").isEqualTo(42);
        assertThat(mapsLinesAt(address)).singleElement().asString().contains("/memfd:test-");
        buf.put(); // released: the memfd must no longer be mapped anywhere in this process

        assertThat(system.released).hasValue(1);
        assertThat(Leaks.memfdMappings()).as("the buffer's pages are no longer mapped").isZero();
        assertThat(mapsLinesAt(address)).as("its addresses are reserved by private anonymous pages")
                .singleElement().asString().doesNotContain("memfd").contains("rw-p");
        assertThat(stale[0].getLong(0)).as("a stale view reads zeros").isZero();
        stale[0].putLong(8, 7); // and writes to a throwaway page, no crash
        assertThat(memory.hasLiveViews()).isTrue();

        stale[0] = null;
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50)).until(() -> {
            System.gc();
            return !memory.hasLiveViews();
        });
        assertThat(mapsLinesAt(address)).as("the reservation is unmapped once no view can reach it")
                .noneMatch(l -> l.startsWith(Long.toHexString(address) + "-" + Long.toHexString(address + 2 * 4096)));
    }

    /** The lines of /proc/self/maps whose range contains the address. */
    private static List<String> mapsLinesAt(long address) {
        try {
            return Files.readAllLines(Path.of("/proc/self/maps")).stream().filter(l -> {
                String[] range = l.substring(0, l.indexOf(' ')).split("-");
                return Long.parseUnsignedLong(range[0], 16) <= address && address < Long.parseUnsignedLong(range[1], 16);
            }).toList();
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }
}
