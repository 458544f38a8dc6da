#!/bin/sh
# PID 1 of the test initramfs (scripts/fixtures.sh): print a marker and power the machine off.
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sysfs /sys
echo BOOT-OK
# also via printk, for boards whose UART driver does not bind (only earlycon + keep_bootcon)
echo "init: BOOT-OK (kmsg)" > /dev/kmsg
echo "uname: $(/bin/busybox uname -a)"
echo "cpus-online: $(/bin/busybox cat /sys/devices/system/cpu/online)"
echo "uptime: $(/bin/busybox cat /proc/uptime)"
/bin/busybox poweroff -f
