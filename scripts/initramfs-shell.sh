#!/bin/busybox sh
# PID 1 of the debugging setups' initramfs (scripts/fixtures.sh): the virtio modules the kernel has as
# modules, then an interactive shell on the console (hvc0 when the kernel was told console=hvc0).
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sysfs /sys
/bin/busybox mount -t devtmpfs dev /dev
/bin/busybox --install -s /bin
for m in $(cat /lib/modules/order 2>/dev/null); do insmod "/lib/modules/$m" || echo "insmod $m failed"; done
tty=/dev/console
if grep -q 'console=hvc0' /proc/cmdline; then
  tty=/dev/hvc0
  while [ ! -e $tty ]; do sleep 0.1; done
fi
export PS1="${zone:-linux}# "
echo SHELL-READY > $tty
# A session of its own, so the console is the shell's controlling terminal (job control, Ctrl-C).
exec setsid sh -c "exec sh -i <$tty >$tty 2>&1"
