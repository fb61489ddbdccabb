import numpy as np

from visionllm.apis.image_inputs import output_names


def test_output_names_are_unique_among_the_inputs():
    arr = np.zeros((4, 4, 3), np.uint8)
    assert output_names(['d/a.png', 'd/b.jpg', arr]) == ['a', 'b', 'array_2']
    assert output_names(['d/a.png', 'd/a.JPG', 'e/a.png', 'd/c.png']) == ['a_png', 'a_jpg', 'a_png-2', 'c']
    assert output_names(['x/a_png.png', 'y/a.png', 'z/a.png']) == ['a_png', 'a_png-1', 'a_png-2']
