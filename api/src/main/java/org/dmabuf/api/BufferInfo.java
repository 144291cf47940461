package org.dmabuf.api;

import java.util.List;

/**
 * One line of {@code bufinfo}: a snapshot of a live buffer, like the kernel's
 * {@code /sys/kernel/debug/dma_buf/bufinfo}. Immutable and thread-safe; values are as of the snapshot.
 *
 * @param inode the buffer's inode, 0 while it has no storage
 * @param size bytes
 * @param name the name, empty when none
 * @param exporter the exporter's name, empty while it has no storage
 * @param kind {@code "dma-buf"}, {@code "memfd"}, or {@code "pending"} while it has no storage
 * @param refCount references over all handles and open CPU accesses
 * @param attachedDevices the names of the attached devices, one entry per attachment
 * @param mappings device mappings (sg tables) that are live
 * @param cpuMapped whether the CPU mapping exists
 * @param owner the bundle that created the buffer ({@code symbolic.name [id]}), or the process-level owner
 */
public record BufferInfo(long inode, long size, String name, String exporter, String kind, int refCount,
        List<String> attachedDevices, int mappings, boolean cpuMapped, String owner) {
    /** Copies the device list. */
    public BufferInfo {
        attachedDevices = List.copyOf(attachedDevices);
    }
}
