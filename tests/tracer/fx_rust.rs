// fx_rust: what every Rust program does first (std asks glibc for the main
// thread's stack with pthread_getattr_np, and again in every thread it
// spawns), plus known leaks whose addresses are printed (so no compiler
// can elide them).
use std::thread;

fn main() {
    println!("hi");
    let n = std::env::args().count();
    let t = thread::spawn(move || {
        let v: &'static mut [u8] = vec![n as u8; 4000].leak(); // @expect exit size_diff=4000 count_diff=1
        v.as_ptr() as usize
    });
    let a = t.join().unwrap();
    let b: &'static mut [u64; 30] = Box::leak(Box::new([n as u64; 30])); // @expect exit size_diff=240 count_diff=1
    let c = b.as_ptr() as usize;
    if a == c || a == 0 {
        println!("impossible");
    }
}
