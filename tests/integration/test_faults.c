#include <criterion/criterion.h>
TestSuite(faults);
