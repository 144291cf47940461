package org.dmabuf.api;

import java.util.Objects;
import org.osgi.annotation.versioning.ConsumerType;

/**
 * An importer device: the {@code struct device *} passed to {@code dma_buf_attach()}. It has a name, shown in
 * {@code bufinfo} under "Attached Devices", and the constraints that late allocation must satisfy.
 *
 * <p>Implemented by consumers: a software device is {@link #of(String, DeviceConstraints)}; exporter bundles offer
 * devices backed by kernel drivers. Implementations must be immutable and safe to call from any thread.
 */
@ConsumerType
public interface Device {
    /**
     * The device's name.
     *
     * @return for example {@code "vgem"} or {@code "thumbnailer"}; never null
     */
    String name();

    /**
     * What the device needs of the storage.
     *
     * @return the constraints, {@link DeviceConstraints#NONE} by default
     */
    default DeviceConstraints constraints() {
        return DeviceConstraints.NONE;
    }

    /**
     * A software device: Java code that reads or writes the memory.
     *
     * @param name the device's name
     * @param constraints what it needs
     * @return an immutable device
     */
    static Device of(String name, DeviceConstraints constraints) {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(constraints, "constraints");
        return new Device() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public DeviceConstraints constraints() {
                return constraints;
            }

            @Override
            public String toString() {
                return name + "[" + constraints + "]";
            }
        };
    }
}
