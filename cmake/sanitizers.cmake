# The sanitizer builds: COVGATE_SANITIZE=ON is ASan + UBSan (UB aborts instead of warning);
# COVGATE_SANITIZE=thread is ThreadSanitizer (.ci/run builds only libcovgate's tests with it).
function(covgate_sanitize target)
  if(COVGATE_SANITIZE STREQUAL "thread")
    target_compile_options(${target} PRIVATE -fsanitize=thread -fno-omit-frame-pointer)
    target_link_options(${target} PRIVATE -fsanitize=thread)
  elseif(COVGATE_SANITIZE)
    target_compile_options(${target} PRIVATE
      -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
    target_link_options(${target} PRIVATE -fsanitize=address,undefined)
    # Executables are linked without PIE here: a PIE executable relocates every pointer in the
    # instrumented code's static data at each start (2,526,852 relocations in covgate, 7,438 in
    # the release build), and a one-claim `covgate check` took 0.53 s as PIE against 0.30 s
    # without; the golden and CLI tests start it hundreds of times. Release builds stay PIE.
    get_target_property(type ${target} TYPE)
    if(type STREQUAL "EXECUTABLE")
      target_link_options(${target} PRIVATE -no-pie)
    endif()
  endif()
endfunction()
