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
  endif()
endfunction()
